"""fixes.fields: the paths a change touches, and the guard that holds a live write to the plan's diff."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from multus_check.collect.redact import VALUE_MARKER, redact_object
from multus_check.errors import MultusCheckError
from multus_check.fixes.apply import live_body
from multus_check.fixes.fields import changed_paths, comparable, covered, show, stray_fields, took_effect
from multus_check.fixes.plan import Action, Change, replace


def _ds() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "m", "namespace": "kube-system", "resourceVersion": "7", "uid": "u1",
                         "managedFields": [{"manager": "kubectl"}]},
            "spec": {"template": {"spec": {
                "initContainers": [{"name": "install", "image": "multus:v4.0.2"}],
                "containers": [{"name": "kube-multus", "image": "multus:v4.0.2",
                                "env": [{"name": "MULTUS_TOKEN", "value": "REAL-SECRET"}, {"name": "LOG", "value": "1"}]}]}}},
            "status": {"numberReady": 3}}


def _add_init(ds: dict[str, Any]) -> None:
    pod = ds["spec"]["template"]["spec"]
    pod["initContainers"] = [{"name": "cleanup", "image": "busybox"}, *pod["initContainers"]]


def test_named_list_items_are_compared_by_name_so_an_insert_is_one_path() -> None:
    before = _ds()
    after = copy.deepcopy(before)
    _add_init(after)
    assert changed_paths(before, after) == {("spec", "template", "spec", "initContainers", "[cleanup]")}


def test_an_env_value_change_names_the_variable() -> None:
    before = _ds()
    after = copy.deepcopy(before)
    after["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "x"
    (path,) = changed_paths(before, after)
    assert show(path) == "spec.template.spec.containers[kube-multus].env[MULTUS_TOKEN].value"


def test_unnamed_lists_of_another_length_count_as_one_changed_list() -> None:
    assert changed_paths({"args": ["a", "b"]}, {"args": ["a", "b", "c"]}) == {("args",)}
    assert changed_paths({"args": ["a", "b"]}, {"args": ["a", "x"]}) == {("args", 1)}
    assert covered(("args", 1), {("args",)}) and not covered(("args",), {("args", 1)})


def test_comparable_ignores_what_the_server_maintains_but_not_uid() -> None:
    a, b = _ds(), _ds()
    b["metadata"].update(resourceVersion="9", generation=4, managedFields=[])
    b["metadata"]["annotations"] = {"deprecated.daemonset.template.generation": "4"}
    b["status"] = {}
    assert comparable(a) == comparable(b)
    b["metadata"]["uid"] = "u2"
    assert comparable(a) != comparable(b)


def test_a_planned_edit_on_the_live_object_keeps_the_real_secret_and_touches_only_the_plan() -> None:
    live = _ds()
    change = replace(redact_object(live), _add_init, "add the cleanup init container")
    assert change is not None and change.before is not None
    assert change.before["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] == VALUE_MARKER
    body = live_body(change, live)
    assert body["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] == "REAL-SECRET"
    assert [c["name"] for c in body["spec"]["template"]["spec"]["initContainers"]] == ["cleanup", "install"]
    assert "managedFields" not in body["metadata"] and "status" not in body


def test_an_edit_that_would_write_the_marker_or_an_unplanned_field_is_refused() -> None:
    live = _ds()
    shown = redact_object(live)

    def copy_shown_env(ds: dict[str, Any]) -> None:  # what building `after` from the collected copy did
        ds["spec"]["template"]["spec"]["containers"][0]["env"] = copy.deepcopy(
            shown["spec"]["template"]["spec"]["containers"][0]["env"])
        ds["spec"]["template"]["spec"]["containers"][0]["image"] = "multus:v4.2.3"

    change = replace(shown, copy_shown_env, "upgrade")
    assert change is not None
    problems = stray_fields(shown, change.after, live, change.applied_to(live))
    assert problems == ["spec.template.spec.containers[kube-multus].env[MULTUS_TOKEN].value is not in the plan",
                        "spec.template.spec.containers[kube-multus].env[MULTUS_TOKEN].value would be written with a "
                        "redaction marker"]
    with pytest.raises(MultusCheckError, match="nothing of it was written"):
        live_body(change, live)


def test_a_replace_without_an_edit_cannot_be_built() -> None:
    with pytest.raises(ValueError, match=r"use fixes\.plan\.replace"):
        Change(Action.REPLACE, {}, "why", before={})


def test_a_write_took_effect_when_the_object_holds_it_with_server_defaults_only_inside_what_it_added() -> None:
    before = {"kind": "DaemonSet", "metadata": {"name": "m", "resourceVersion": "5"},
              "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "a:1", "terminationMessagePath": "/t"}]}}}}
    sent = copy.deepcopy(before)
    sent["spec"]["template"]["spec"]["initContainers"] = [{"name": "clean", "image": "busybox"}]
    live = copy.deepcopy(sent)
    live["metadata"].update(resourceVersion="9", generation=2)
    live["spec"]["template"]["spec"]["initContainers"][0]["terminationMessagePath"] = "/dev/termination-log"
    assert took_effect(before, sent, live), "a default inside the new init container is the server's"
    assert not took_effect(before, sent, before), "not applied"
    someone = copy.deepcopy(live)
    someone["spec"]["template"]["spec"]["containers"][0]["image"] = "a:2"
    assert not took_effect(before, sent, someone), "a change outside the plan is someone else's"
    assert took_effect(None, {"kind": "ConfigMap", "data": {"a": "1"}},
                       {"kind": "ConfigMap", "metadata": {"uid": "u"}, "data": {"a": "1"}}), "a create: all of it is new"
