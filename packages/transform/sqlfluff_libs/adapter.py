"""Stand-in for dbt's ``adapter`` when sqlfluff renders models offline.

``adapter.dispatch(name, namespace)`` returns a function rendering ``name(arguments)``: plain
SQL of the same shape as any adapter's implementation.
"""


def dispatch(macro_name, macro_namespace=None):
    """Return a renderer of ``macro_name(arguments)``."""

    def render(*args, **kwargs):
        return f"{macro_name}({', '.join(str(argument) for argument in args)})"

    return render
