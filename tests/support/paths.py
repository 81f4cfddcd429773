"""Where the repository's own files are, for tests in any room."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = REPO_ROOT / "samples"
SAMPLE_ROSTER = SAMPLES / "roster.xlsx"
SAMPLE_COMPANY = SAMPLES / "company"
