"""Stories: group fetched items into stories and thread stories across days.

``embed`` turns texts into unit vectors (MiniLM on onnxruntime, TF-IDF as the
fallback); ``cluster`` holds the pure decisions over those vectors (which items
tell the same story, which story an entry follows up).
"""
