"""Customer DNA: Korean call-center speech, memos and bank data turned into explained product recommendations.

Layers (checked by import-linter, see CONTRIBUTING.md): `cdna.core` ← `cdna.contracts` ← stages
(`cdna.ingest`, `cdna.nlp`, `cdna.features`, `cdna.recommend`) ← `cdna.serve` and `cdna.cli`.
"""

from cdna.core.version import __version__

__all__ = ["__version__"]
