"""Choice: goes to the ``Next`` of the first rule that matches, else to ``Default``.

A rule may carry its own ``Assign`` (and, in JSONata, ``Output``), used when that rule
is taken; the state's own ``Assign``/``Output`` apply when the ``Default`` is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stratus.workflows.choice_rules import Rule, compile_rule
from stratus.workflows.errors import NO_CHOICE, StatesError
from stratus.workflows.states.base import JSONATA_IO, JSONPATH_IO, Done, Outcome, Problems, State
from stratus.workflows.templates import Template, compile_jsonata_template

if TYPE_CHECKING:
    from stratus.workflows.engine import Frame, Runtime


@dataclass
class Branch:
    rule: Rule
    next: str
    assign: Template | None
    output: Template | None


class ChoiceState(State):
    type = "Choice"
    has_transition = False
    JSONPATH_FIELDS = JSONPATH_IO | {"Choices", "Default", "Assign"}
    JSONATA_FIELDS = JSONATA_IO | {"Choices", "Default", "Assign"}

    def compile(self, problems: Problems) -> None:
        self.branches: list[Branch] = []
        default = self.raw.get("Default")
        self.default: str | None = default if isinstance(default, str) else None
        if default is not None and not isinstance(default, str):
            problems.add(f"{self.where}/Default", "must be a state name")
        if "Next" in self.raw or "End" in self.raw:
            problems.add(self.where, "a Choice state cannot have 'Next' or 'End'")
        choices = self.raw.get("Choices")
        if not isinstance(choices, list) or not choices:
            problems.add(self.where, "a Choice state needs a non-empty 'Choices' array")
            return
        for i, raw in enumerate(choices):
            where = f"{self.where}/Choices[{i}]"
            rule = compile_rule(raw, where, problems, jsonata=self.jsonata, top=True)
            if not isinstance(raw, dict):
                continue
            nxt = raw.get("Next")
            if not isinstance(nxt, str):
                problems.add(where, "a choice rule needs 'Next'")
                continue
            assign = None
            if "Assign" in raw:
                assign = (
                    self.jsonata_assign(raw["Assign"], f"{where}/Assign", problems)
                    if self.jsonata
                    else self.jsonpath_assign(raw["Assign"], f"{where}/Assign", problems)
                )
            output = None
            if "Output" in raw:
                if not self.jsonata:
                    problems.add(where, "'Output' is a JSONata field; this state uses JSONPath")
                else:
                    output = compile_jsonata_template(raw["Output"], f"{where}/Output", "Output", problems)
            if rule is not None:
                self.branches.append(Branch(rule, nxt, assign, output))

    def transitions(self) -> list[tuple[str, str]]:
        choices = self.raw.get("Choices")
        raw_rules = choices if isinstance(choices, list) else []
        out = [
            (rule["Next"], f"{self.where}/Choices[{i}]/Next")
            for i, rule in enumerate(raw_rules)
            if isinstance(rule, dict) and isinstance(rule.get("Next"), str)
        ]
        if self.default is not None:
            out.append((self.default, f"{self.where}/Default"))
        return out

    def enter(self, rt: Runtime, frame: Frame) -> Outcome:
        if self.jsonata:
            env = self.env(rt, frame, frame.input)
            for branch in self.branches:
                if branch.rule.matches(env):
                    output_t, assign_t = branch.output, branch.assign
                    output = output_t.evaluate(env) if output_t is not None else frame.input
                    assigned = assign_t.evaluate(env) if assign_t is not None else None
                    return Done(output, next=branch.next, assigned=assigned)
            if self.default is None:
                raise StatesError(NO_CHOICE, "No Matches!")
            output = self.output.evaluate(env) if self.output is not None else frame.input
            assigned = self.assign.evaluate(env) if self.assign is not None else None
            return Done(output, next=self.default, assigned=assigned)
        value = self.apply_path(self.input_path, self.input_null, frame.input, rt, frame)
        env = self.env(rt, frame, value)
        target, assign_t = None, self.assign
        for branch in self.branches:
            if branch.rule.matches(env):
                target, assign_t = branch.next, branch.assign
                break
        if target is None:
            if self.default is None:
                raise StatesError(NO_CHOICE, "No Matches!")
            target = self.default
        assigned = assign_t.evaluate(env) if assign_t is not None else None
        output = self.apply_path(self.output_path, self.output_null, value, rt, frame)
        return Done(output, next=target, assigned=assigned)
