"""The clinic's protocol library: templates per indication, and the defaults every new
clinic starts with."""
