"""The dashboard's pages, run by `st.navigation` from the entry file."""
