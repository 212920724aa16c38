"""``python -m backend`` runs the tenderledger command line."""

from backend.cli import main

main()
