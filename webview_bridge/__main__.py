from webview_bridge.cli import main

raise SystemExit(main())
