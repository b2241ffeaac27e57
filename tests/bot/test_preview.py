"""`itinera survey preview` driven from a pipe, as scripts and organisers use it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "surveys" / "examples" / "route_alignment.yaml"
THEMES = 5


def run(lines: list[str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["survey", "preview", str(EXAMPLE), *args], input="\n".join(lines) + "\n"
    )
    return result.exit_code, result.output


def test_preview_in_english_to_completion() -> None:
    per_theme = ["4", "1", "1,2", ""]  # scale, engagement, frameworks, comment skipped
    code, output = run(per_theme * THEMES + ["1, 3", "no"])
    assert code == 0, output
    assert "1/22 To what extent" in output
    summary = output.split("Your answers", 1)[1]
    assert "Global Compact on Refugees, Global Compact for Safe" in summary
    assert "(skipped)" in summary
    assert summary.count(": 4") == THEMES


def test_preview_in_french_with_invalid_lines_back_and_skip_logic() -> None:
    first_theme = [
        "9",  # out of range: re-asked with the reason, in French
        "5",
        "<",  # back to the scale
        "3",
        "deja engage",  # label typed without accents
        "autre",  # "other" makes the follow-up text question relevant
        "Processus de Nouakchott",
        "",
    ]
    others = ["4", "2", "1", ""] * (THEMES - 1)
    closing = ["1,2,3,4", "1,2", "oui", "31/02/2027", "15/01/2027"]
    code, output = run([*first_theme, *others, *closing], "--lang", "fr")
    assert code == 0, output
    assert "Veuillez choisir un nombre de 1 (Pas du tout alignées) à 5" in output
    assert "Votre réponse précédente\u00a0: 5" in output
    assert "4/23 De quel(s) autre(s) cadre(s) s'agit-il ?" in output
    assert "Veuillez choisir entre 1 et 3 options." in output
    assert "La date « 31/02/2027 » n’existe pas." in output.replace("\u00a0", " ")
    summary = output.split("Vos réponses", 1)[1]
    assert "Processus de Nouakchott" in summary
    assert "Déjà engagé" in summary
    assert "2027-01-15" in summary


def test_preview_fails_when_input_runs_out() -> None:
    code, output = run(["4", "1"])
    assert code == 1
    assert "input ended before the survey was complete" in output


def test_preview_refuses_an_unknown_language() -> None:
    code, output = run([], "--lang", "de")
    assert code == 1
    assert "no 'de' translation; languages: en, fr, es" in output


def test_validate_reports_problems_and_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: s\nversion: '1'\ntitle: {en: S}\ndefault_language: en\nlanguages: [en]\n"
        "choice_lists: {empty: []}\n"
        "questions:\n"
        "  - {id: q1, type: text, label: {en: A}}\n"
        "  - {id: q1, type: text, label: {en: B}}\n"
        "  - {id: q2, type: text, label: {en: C}, relevant: \"${nope} = 'x'\"}\n"
        "  - {id: q3, type: single_choice, choices: empty, label: {en: D}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["survey", "validate", str(bad)])
    assert result.exit_code == 1
    assert "this id is used by another question" in result.output
    assert "unknown question 'nope'" in result.output
    assert "choice list 'empty': has no choices" in result.output

    good = CliRunner().invoke(app, ["survey", "validate", str(EXAMPLE)])
    assert good.exit_code == 0
    assert "valid. Survey 'route_alignment' version 2026.1" in good.output


KOBO = Path(__file__).resolve().parents[1] / "fixtures" / "xlsform" / "kobo_route_feedback.xlsx"


def test_preview_of_a_kobo_xlsform_in_french() -> None:
    lines = [
        "2",  # scale
        "4",  # engagement
        "3,autre",  # frameworks, with "other": the follow-up text becomes relevant
        "Processus de Niamey",
        "-3",  # constraint . >= 0 refused with the form's French message
        "12",
        "7,5",  # French decimal comma
        "oui",
        "2026-12-01",
        "",
    ]
    result = CliRunner().invoke(
        app, ["survey", "preview", str(KOBO), "--lang", "fr"], input="\n".join(lines) + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "4/8 " in result.output  # the "other" question joined the count
    assert "> -3\nSaisissez zéro ou plus." in result.output
    summary = result.output.split("Vos réponses", 1)[1]
    assert "Processus de Niamey" in summary
    assert "7,5" in summary
    assert "2026-12-01" in summary


FIXTURES = KOBO.parent


def preview(path: Path, lines: list[str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["survey", "preview", str(path), *args], input="\n".join(lines) + "\n"
    )
    return result.exit_code, result.output


def test_typing_0_7_and_10_on_a_list_labelled_0_to_10() -> None:
    for typed in ("0", "7", "10"):
        code, output = preview(FIXTURES / "nps_numbers.xlsx", [typed, "agree"])
        assert code == 0, output
        assert "  - 7\n" in output and "1. 0" not in output  # labels only, no positions
        summary = output.split("Your answers", 1)[1]
        assert f"(0-10)?: {typed}\n" in summary
        assert "The process is useful.: Agree" in summary


def test_preview_shows_group_headings_piping_and_large_ranges() -> None:
    code, output = preview(FIXTURES / "groups_and_guidance.xlsx", ["3", "by bus", ""])
    assert code == 0, output
    assert output.index("Welcome.") < output.index("Return") < output.index("How many returns?")
    assert "Count each person once." in output

    code, output = preview(FIXTURES / "piping.xlsx", ["Amina", "2", "4", ""], "--lang", "fr")
    assert code == 0, output
    assert "Bonjour Amina : combien d'agents en Europe ?" in output
    assert "4 agents en Europe." in output

    code, output = preview(FIXTURES / "large_ranges.xlsx", ["57", "55", "640", "8", "37", ""])
    assert code == 0, output
    assert "Please type a number from 0 to 100, in steps of 5.\n> 57\n" in output
    summary = output.split("Your answers", 1)[1]
    assert "Share of returns (%)?: 55" in summary and "Years of cooperation?: 37" in summary


def test_validate_tells_what_it_accepted() -> None:
    result = CliRunner().invoke(app, ["survey", "validate", str(FIXTURES / "warnings_shown.xlsx")])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith(
        "valid. Survey 'warnings_shown' version 1, 3 questions, languages en, fr."
    )
    assert lines[1] == "languages: English (en, default), French (fr)"
    assert lines[2] == "questions: 2 single choice, 1 integer, 1 note"
    assert "warning: survey: no 'fr' label for 'staff'" in lines
    assert "warning: choice list 'spare': is not used by any question" in lines


def test_validate_of_a_form_without_settings_names_its_defaults() -> None:
    path = FIXTURES / "Feedback form (copy).xlsx"
    result = CliRunner().invoke(app, ["survey", "validate", str(path)])

    assert result.exit_code == 0, result.output
    assert "valid. Survey 'Feedback_form_copy' version " in result.output
    assert "languages: French (fr, default), English (en)" in result.output
