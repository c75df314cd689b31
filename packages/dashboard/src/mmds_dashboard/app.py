"""Entry file of the dashboard (`streamlit run` this file, or `mmds-dashboard`).

Each rerun: find the serving file and its publish, take the reader's filters, run the chosen page.
Anything that keeps the data from being shown becomes a page that says what to do, never a
traceback.
"""

from pathlib import Path

import duckdb
import streamlit as st

from mmds_dashboard import cache
from mmds_dashboard.context import PageContext, set_page_context
from mmds_dashboard.filter_bar import current_filters
from mmds_dashboard.serving import ServingFileUnavailable, publish_marker, serving_file_path

VIEWS = Path(__file__).with_name("views")
NOT_READY = """
The dashboard shows what the pipeline publishes into its serving file, and there is nothing to
show yet. Build it, then reload this page:

```
uv run mmds run            # from the City of Vancouver's open data portal
uv run mmds run --sample   # offline, with the project's generated sample
```

The dashboard reads `{path}`: set `MMDS_DATA_DIR` (or `mmds-dashboard --serving-file`) to read
another file.
"""


def _not_ready(reason: str, path: Path) -> None:
    st.title("No data to show yet")
    st.warning(reason, icon=":material/hourglass_empty:")
    st.markdown(NOT_READY.format(path=path))


# An emoji favicon is inlined; a Material one would be fetched from fonts.gstatic.com.
st.set_page_config(page_title="Vancouver 3-1-1 requests", page_icon="📞", layout="wide")
navigation = st.navigation(
    [
        st.Page(VIEWS / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(VIEWS / "neighbourhoods.py", title="Neighbourhoods", icon=":material/map:"),
        st.Page(VIEWS / "request_types.py", title="Request types", icon=":material/category:"),
        st.Page(VIEWS / "outlook.py", title="Outlook", icon=":material/query_stats:"),
        st.Page(VIEWS / "data_health.py", title="Data health", icon=":material/monitor_heart:"),
        st.Page(VIEWS / "about.py", title="About", icon=":material/info:"),
    ]
)
path = serving_file_path()
try:
    marker = publish_marker(path)
    options = cache.filter_options(marker)
    if options is None:
        raise ServingFileUnavailable(f"The serving file `{path}` holds no requests yet.")
    set_page_context(PageContext(marker, options, current_filters(options)))
    navigation.run()
except ServingFileUnavailable as error:
    _not_ready(str(error), path)
except duckdb.Error as error:
    st.error(
        "Reading the serving file failed; reload the page to try again. If it keeps failing, "
        f"publish again with `uv run mmds run`. ({type(error).__name__})",
        icon=":material/error:",
    )
