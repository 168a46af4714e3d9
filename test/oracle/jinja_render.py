"""Render every Jinja differential case the way Ansible renders it, in one process.

Ansible is the oracle, not bare Jinja2: each case goes through ansible-core's own
Templar, so the filters, tests and lookups are Ansible's real plugins (no
re-implementation here). Two modes:
- "template": what the `template` module does with a source file (its Jinja
  overrides, trim_blocks on by default, the trailing newline kept, the
  template_* variables and ansible_managed);
- "expression": what Ansible does with a task argument string (a lone
  `{{ list_var }}` stays a list).

Input (stdin): {"files_dir": ..., "cases": [{"name", "template", "vars", "options", "mode", "env"}]}
Output (stdout): {name: {"ok": true, "text": ...} | {"ok": true, "value": ...} | {"ok": false, "error": class, "message": ...}}
"""
import json
import os
import sys

from ansible.parsing.dataloader import DataLoader
from ansible.template import AnsibleEnvironment, Templar, generate_ansible_template_vars

# The template module's own option names (its documented spellings); anything else in a case is a typo.
TEMPLATE_OPTIONS = {
    "trim_blocks", "lstrip_blocks", "newline_sequence",
    "block_start_string", "block_end_string",
    "variable_start_string", "variable_end_string",
    "comment_start_string", "comment_end_string",
}
# The template module's defaults (ansible/plugins/action/template.py), and the
# place every template-mode case pretends its source file sits.
DEFAULTS = {"trim_blocks": True, "lstrip_blocks": False, "newline_sequence": "\n"}
CASE_SRC = "templates/case.j2"
CASE_DEST = "/etc/plumb/case.conf"
# Ansible adds these too, but they change from run to run or machine to machine.
UNSTABLE_TEMPLATE_VARS = ("template_mtime", "template_uid", "template_run_date")


class BadCase(Exception):
    """A case the suite itself got wrong (not a rendering result): stop the run."""


def template_vars(files_dir):
    found = generate_ansible_template_vars(CASE_SRC, os.path.join(files_dir, CASE_SRC), CASE_DEST)
    for name in UNSTABLE_TEMPLATE_VARS:
        found.pop(name, None)
    return found


def render_template(base, case, files_dir):
    options = dict(DEFAULTS)
    for key, value in (case.get("options") or {}).items():
        if key not in TEMPLATE_OPTIONS:
            raise BadCase("case %s: unknown template option %s" % (case["name"], key))
        options[key] = value
    # The task's templar holds the play's variables; lookups called from the template run
    # through it (not through the copy below), as in the template action.
    base.available_variables = dict(case.get("vars") or {})
    available = dict(case.get("vars") or {})
    available.update(template_vars(files_dir))
    # The module's search path: the play's base dir and the template's own dir, each with templates/.
    searchpath = []
    for p in (files_dir, os.path.join(files_dir, "templates")):
        searchpath += [os.path.join(p, "templates"), p]
    templar = base.copy_with_new_env(environment_class=AnsibleEnvironment, searchpath=searchpath,
                                     available_variables=available, **options)
    return {"ok": True, "text": templar.do_template(case["template"], preserve_trailing_newlines=True,
                                                    escape_backslashes=False)}


def plain(value):
    """Ansible's own str/dict/list subclasses, as plain JSON data."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def render_expression(base, case):
    base.available_variables = dict(case.get("vars") or {})
    return {"ok": True, "value": plain(base.template(case["template"]))}


def render(base, case, files_dir):
    saved = dict(os.environ)
    os.environ.update(case.get("env") or {})
    try:
        if case.get("mode", "template") == "expression":
            return render_expression(base, case)
        return render_template(base, case, files_dir)
    except BadCase:
        raise
    except Exception as e:  # a case the oracle refuses is a result: the error's class is compared
        return {"ok": False, "error": type(e).__name__, "message": str(e)}
    finally:
        os.environ.clear()
        os.environ.update(saved)


def float_marker(obj):
    """test/jinja/cases.ts marks YAML floats (`2.0`), which JSON from JavaScript cannot tell from ints."""
    if set(obj) == {"__float__"}:
        return float(obj["__float__"])
    return obj


def main():
    request = json.load(sys.stdin, object_hook=float_marker)
    files_dir = os.path.abspath(request["files_dir"])
    loader = DataLoader()
    # Relative lookup('file'|'template') names resolve here, as against a playbook's directory.
    loader.set_basedir(files_dir)
    base = Templar(loader=loader)
    results = {case["name"]: render(base, case, files_dir) for case in request["cases"]}
    json.dump(results, sys.stdout, ensure_ascii=False)


main()
