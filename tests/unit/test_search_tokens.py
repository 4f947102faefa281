"""Blind-index tokens: what a person is found by, and that no token shows it in clear."""

from __future__ import annotations

from ledger.search.tokens import (
    Tokens,
    duplicate_terms,
    index_key,
    person_terms,
    query_terms,
)

KEK = bytes(range(32))
NAME, EMAIL, ORGANISATION = "Zuzana Hrušovská", "Zuzana.Hrusovska@Example.org", "Ústav Výchovy"


def test_a_query_folds_case_and_accents_as_the_person_terms_do() -> None:
    terms = person_terms(NAME, EMAIL, ORGANISATION)
    for query in ("hrusovska", "Hrušovská", "HRUSOVSKA", "  hrušovská "):
        assert query_terms(query) == ["term:hrusovska"]
        assert terms["term:hrusovska"] is True


def test_prefixes_of_three_characters_or_more_are_terms_but_not_exact() -> None:
    terms = person_terms(NAME, EMAIL, ORGANISATION)
    assert terms["term:hru"] is False
    assert terms["term:hrusovsk"] is False
    assert "term:hr" not in terms
    assert terms["term:ustav"] is True
    assert terms["term:vych"] is False


def test_the_email_is_a_term_whole_and_by_the_words_of_its_local_part() -> None:
    terms = person_terms(NAME, EMAIL, ORGANISATION)
    assert terms["email:zuzana.hrusovska@example.org"] is True
    assert terms["term:zuzana"] is True
    assert "term:example" not in terms  # the domain is shared by everyone at an organisation
    assert query_terms("ZUZANA.Hrusovska@example.org") == ["email:zuzana.hrusovska@example.org"]


def test_a_word_that_is_also_a_prefix_of_another_counts_as_exact() -> None:
    terms = person_terms("Ann Annabel", "a@example.org", "Foundation")
    assert terms["term:ann"] is True
    assert terms["term:anna"] is False


def test_several_query_words_are_each_a_term_once() -> None:
    assert query_terms("Zuzana hrus zuzana") == ["term:zuzana", "term:hrus"]
    assert query_terms(" ,.; ") == []


def test_duplicates_are_matched_by_folded_email_or_by_folded_name_and_organisation() -> None:
    assert duplicate_terms(" HRUŠOVSKÁ  zuzana", " Z@EXAMPLE.org ", "ústav  výchovy") == [
        "email:z@example.org",
        "name-org:hrusovska zuzana|ustav vychovy",
    ]


def test_no_token_equals_or_contains_the_clear_text() -> None:
    tokens = Tokens(index_key(KEK))
    found = tokens.of_person(NAME, EMAIL, ORGANISATION)
    clear = set(person_terms(NAME, EMAIL, ORGANISATION)) | {NAME, EMAIL, ORGANISATION}
    pieces = {piece for text in clear for piece in text.replace(":", " ").split() if len(piece) > 3}
    for token in found:
        assert len(token) == 32
        assert set(token) <= set("0123456789abcdef")
        assert not any(piece.casefold() in token for piece in pieces | clear)
    assert len(found) == len(person_terms(NAME, EMAIL, ORGANISATION))


def test_tokens_depend_on_the_key_and_the_key_on_its_own_label() -> None:
    one, other = Tokens(index_key(KEK)), Tokens(index_key(bytes(32)))
    assert one.of_query("hrusovska") == Tokens(index_key(KEK)).of_query("hrusovska")
    assert one.of_query("hrusovska") != other.of_query("hrusovska")
    assert index_key(KEK) != KEK
    assert one.key_check() != other.key_check()
    assert "index key" in repr(one)
    assert KEK.hex() not in repr(one)


def test_a_query_token_is_the_token_of_the_matching_person_term() -> None:
    tokens = Tokens(index_key(KEK))
    found = tokens.of_person(NAME, EMAIL, ORGANISATION)
    for query in ("hrus", "Hrušovská", "ústav", "zuzana.hrusovska@example.org"):
        (token,) = tokens.of_query(query)
        assert token in found
    assert set(tokens.of_duplicate(NAME, EMAIL, ORGANISATION)) <= set(found)
