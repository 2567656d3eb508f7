"""botocore's service model as the judge of the tests' Cost Explorer fakes: a fake's answer must
fit the operation's output shape and a request the operation's input shape, so a fake cannot
drift from AWS (a misspelled or invented field is an error)."""
from .env import require_module


def _shape(operation, which):
    require_module("botocore")
    import botocore.session

    model = botocore.session.get_session().get_service_model("ce").operation_model(operation)
    return model.output_shape if which == "output" else model.input_shape


def problems(operation, value, which="output"):
    """What in `value` does not fit the shape (empty when it fits), via botocore's own validator."""
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(value, _shape(operation, which))
    return report.generate_report() if report.has_errors() else ""
