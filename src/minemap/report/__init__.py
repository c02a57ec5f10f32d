"""Reports: figures (``figures``), national summaries and the monthly and annual reports."""
