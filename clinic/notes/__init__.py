"""Clinical notes: dated notes signed by their author, editable by that author for 24 hours,
after which they stand as written and can only be added to with addenda."""
