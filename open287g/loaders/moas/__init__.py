"""MOA documents: reading PDFs (text layer or OCR), extracting signatories, loading them."""
