from bulkbill.cli.main import main

main()
