"""The access log never keeps a credential or a citizen's dossier code."""
from server.access_log import redact


def test_tokens_and_dossier_codes_are_redacted():
    assert redact("GET /key/s3cr3t-TOKEN/formList?deviceID=collect:x") == \
        "GET /key/[redacted]/formList?deviceID=collect:x"
    line = redact('"GET /f/tthc_hailong?unit=474&dossier=000.00.12.H57-261126-0001 HTTP/1.1"')
    assert "000.00.12.H57" not in line and "unit=474" in line and "dossier=[redacted]" in line
    assert redact("/f/tthc_hailong?dossier=ABC&unit=474") == "/f/tthc_hailong?dossier=[redacted]&unit=474"
