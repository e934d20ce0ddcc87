#!/usr/bin/python3
"""The example commands of README.md's usage section run as written.

Usage: readme_commands_test.py REPO_DIR BUILD_DIR

Every fenced block in the "## Usage" section (up to the next "## ") must be
preceded by one of these marks, so no example goes unclassified:
  <!-- readme-test: run -->            each command runs and exits 0
  <!-- readme-test: output -->         the same, and its output is the box's
                                       (numbers under "timings_ms" masked)
  <!-- readme-test: skip: REASON -->   not run here (cameras, a GPU, a long
                                       recording); printed as SKIPPED with REASON
In a block, lines starting with "$ " are commands and the lines after them
their output; a block without "$ " is all commands. A trailing "\\" joins
lines. Commands run in a temporary directory holding a `build` link to
BUILD_DIR, so `build/vigil` is the binary just built, with the real sample
media the setup installs. A failure prints the command, its exit code and output.
Also: every flag of `vigil run --help` is documented in docs/config.md.
"""
import os
import re
import subprocess
import sys
import tempfile

MARK = re.compile(r"<!--\s*readme-test:\s*(run|output|skip)\s*(?::\s*(.*?))?\s*-->")
TIMEOUT_S = 120


def usage_section(readme):
    m = re.search(r"^## Usage\n(.*?)(?=^## )", readme, re.M | re.S)
    if not m:
        raise SystemExit("FAIL: README.md has no '## Usage' section")
    return m.group(1)


def blocks(section):
    """(mark, reason, block text) for each fenced block, mark None when unmarked."""
    out = []
    for m in re.finditer(r"^```[^\n]*\n(.*?)^```", section, re.M | re.S):
        before = section[:m.start()].rstrip().splitlines()
        mark = MARK.fullmatch(before[-1].strip()) if before else None
        out.append((mark.group(1) if mark else None, mark.group(2) if mark else None, m.group(1)))
    return out


def join_lines(lines):
    joined, cur = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
        else:
            joined.append(cur + line)
            cur = ""
    if cur:
        joined.append(cur)
    return joined


def commands_of(text):
    """[(command, expected output lines or None)]."""
    lines = text.splitlines()
    if not any(l.startswith("$ ") for l in lines):
        return [(c, None) for c in join_lines([l for l in lines if l.strip() and not l.lstrip().startswith("#")])]
    out = []
    for line in join_lines(lines):
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def mask(text):
    text = re.sub(r'("timings_ms":\{)[^}]*(\})', r"\1...\2", text)
    return "".join(text.split())  # the box may wrap a long line


def run(command, cwd):
    p = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)
    return p.returncode, p.stdout, p.stderr


def check_run_flags_documented(repo, build):
    help_text = subprocess.run([os.path.join(build, "vigil"), "run", "--help"], capture_output=True, text=True).stdout
    flags = sorted(set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help"})
    with open(os.path.join(repo, "docs", "config.md")) as f:
        doc = f.read()
    m = re.search(r"^## `vigil run`\n(.*?)(?=^## )", doc, re.M | re.S)
    section = m.group(1) if m else ""
    missing = [f for f in flags if not re.search(re.escape(f) + r"(?![a-z-])", section)]
    return [f"docs/config.md, `vigil run`: flag {f} of `vigil run --help` is not documented" for f in missing]


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    repo, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with open(os.path.join(repo, "README.md")) as f:
        found = blocks(usage_section(f.read()))
    failures = check_run_flags_documented(repo, build)
    ran = 0
    with tempfile.TemporaryDirectory(prefix="vigil_readme_") as cwd:
        os.symlink(build, os.path.join(cwd, "build"))
        os.mkdir(os.path.join(cwd, "out"))
        for mark, reason, text in found:
            first = text.strip().splitlines()[0] if text.strip() else ""
            if mark is None:
                failures.append(f"README.md usage block without a readme-test mark: {first}")
                continue
            if mark == "skip":
                print(f"SKIPPED (README block '{first}'): {reason or 'no reason given'}")
                if not reason:
                    failures.append(f"README.md skipped block without a reason: {first}")
                continue
            for command, expected in commands_of(text):
                code, out, err = run(command, cwd)
                ran += 1
                if code != 0:
                    failures.append(f"command failed (exit {code}): {command}\n--- stdout:\n{out[-3000:]}\n"
                                    f"--- stderr:\n{err[-3000:]}")
                elif mark == "output" and expected is not None and mask("\n".join(expected)) != mask(out):
                    failures.append(f"output differs from README.md's box: {command}\n--- README:\n" +
                                    "\n".join(expected) + f"\n--- actual:\n{out}")
                else:
                    print(f"ok: {command}")
    if ran == 0:
        failures.append("no runnable example in README.md's usage section")
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
