"""Documents customers read, rendered: the core's document model as an HTML page (Jinja2) and a PDF (typst)."""
