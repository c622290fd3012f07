"""Small data files the engine ships: phrase rules and the document-score calibration."""
