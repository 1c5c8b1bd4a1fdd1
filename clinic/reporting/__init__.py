"""Documents that leave the clinic: progress reports, MDT packs, instruction sheets.

Print templates and their stylesheet live in the top-level `reports/` folder (inside the
package once installed: see clinic.bundled); this package turns them into PDFs with
WeasyPrint (`pdf`), never letting a document reach the network or the file system
(`fetcher`), and builds each document's content (`progress`, ...).
"""
