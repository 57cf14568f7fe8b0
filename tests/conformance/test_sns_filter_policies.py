"""SNS subscription filter policies against the corpus recorded on AWS.

Policy-validation cases (``invalid`` / ``valid``) check SNS's error code and message, with the prefix of
the API that set the policy (``Subscribe`` vs ``SetSubscriptionAttributes``); delivery cases check the
message is delivered (``match``) or filtered out (``no-match``) in the policy's scope.
"""

from __future__ import annotations

from typing import Any

import pytest

from stratus.matching import (
    SET_SUBSCRIPTION_ATTRIBUTES_PREFIX,
    SUBSCRIBE_PREFIX,
    InvalidFilterPolicy,
    compile_filter_policy,
)


def _prefix(case: dict[str, Any]) -> str:
    return SUBSCRIBE_PREFIX if case.get("api", "").startswith("Subscribe") else SET_SUBSCRIPTION_ATTRIBUTES_PREFIX


def test_sns_filter_policy(sns_case: dict[str, Any]) -> None:
    case = sns_case
    if case["expect"] == "invalid":
        with pytest.raises(InvalidFilterPolicy) as caught:
            compile_filter_policy(case["policy"], scope=case["scope"], error_prefix=_prefix(case))
        assert caught.value.code == case["aws_error_code"]
        assert caught.value.message.splitlines()[0] == case["aws_error"]
        return
    policy = compile_filter_policy(case["policy"], scope=case["scope"], error_prefix=_prefix(case))
    if case["expect"] == "valid":
        return
    if case["scope"] == "MessageBody":
        delivered = policy.matches(body=case["message"])
    else:
        delivered = policy.matches(message_attributes=case["message"])
    assert delivered is (case["expect"] == "match")
