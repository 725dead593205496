"""Where moto 5.2.5 differs from AWS in a way the product must not work around, the test stand is fixed instead.

The product follows AWS; a moto workaround never runs against AWS (docs/aws-rules.md). These patches are loaded
into every moto_server that ``moto_stand.start`` launches (a ``sitecustomize`` on the server's ``PYTHONPATH``), so
molecule scenarios, playbook tests, ``make demo`` and ``make bench`` see AWS's behaviour; an in-process ``mock_aws``
test calls :func:`apply` itself.

- ``logs:PutMetricFilter`` with the name of an existing filter of the log group replaces that filter on AWS
  (CloudWatch Logs API Reference, PutMetricFilter: "Creates or updates a metric filter"); moto 5.2.5 appends a
  second filter of the same name. tests/unit/test_moto_stand.py checks both, so the patch goes once moto is fixed.

Stdlib and moto only: this runs inside the moto_server process.
"""


def _replace_metric_filter_in_place() -> None:
    from moto.logs.metric_filters import MetricFilters

    original = MetricFilters.add_filter
    if getattr(original, "trailwatch_patch", False):
        return

    def add_filter(self, filter_name, filter_pattern, log_group_name, metric_transformations):
        kept = [f for f in self.metric_filters if (f["filterName"], f["logGroupName"]) != (filter_name, log_group_name)]
        replaced = len(kept) != len(self.metric_filters)
        position = next(
            (
                i
                for i, f in enumerate(self.metric_filters)
                if (f["filterName"], f["logGroupName"]) == (filter_name, log_group_name)
            ),
            len(kept),
        )
        self.metric_filters = kept
        original(self, filter_name, filter_pattern, log_group_name, metric_transformations)
        if replaced:
            # Keep the replaced filter where it was, as AWS does not reorder a log group's filters on update.
            self.metric_filters.insert(position, self.metric_filters.pop())

    add_filter.trailwatch_patch = True
    add_filter.original = original
    MetricFilters.add_filter = add_filter


def apply() -> None:
    """Applies every patch (idempotent)."""
    _replace_metric_filter_in_place()
