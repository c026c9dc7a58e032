"""Start Streamlit on app.py with st.navigation routing from the very first request.

Streamlit treats an app with a `pages/` folder beside its main script as an old-style
multipage app until the first st.navigation call, so the first deep link (e.g. /review)
would run that page without the app frame. Clearing the flag before start-up avoids it.
Usage: python ui/launch.py [streamlit run options…]
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def main() -> None:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
