import asyncio

from mailer_service.app import main

if __name__ == "__main__":
    asyncio.run(main())
