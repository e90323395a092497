from gateway_service.app import main

if __name__ == "__main__":
    raise SystemExit(main())
