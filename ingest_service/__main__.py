from ingest_service.app import main

# Guarded: validation worker processes import this module again under another name.
if __name__ == "__main__":
    raise SystemExit(main())
