"""Uploads: accepted by content, hostile names and archives refused, stored privately under random names."""
from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import unicodedata
import zipfile
import zlib

import pytest

from crm import create_app
from crm.services.errors import NotFound, ValidationError
from crm.services.uploads import (MAX_ZIP_MEMBERS, StoredFile, check_content, clean_filename, open_stored,
                                  read_stored, store)

MB = 1024 * 1024
LIMIT = 5 * MB


def png_bytes() -> bytes:
    """A real 1×1 grey PNG."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x7f")) + chunk(b"IEND", b""))


PNG = png_bytes()
JPEG = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        b"\xff\xdb\x00\x43\x00" + bytes(range(64)) + b"\xff\xd9")
PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
# Part 10: 128-byte preamble, "DICM", then the file meta group (here its group length element).
DICOM = (b"\x00" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00\x54\x00\x00\x00"
         + b"\x02\x00\x01\x00OB" + b"\x00" * 40)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)  # a name ending in "/" is a folder
    return buffer.getvalue()


def refusal(call, *args, **kwargs) -> str:
    """The English message of the ValidationError that ``call`` raises on the ``file`` field."""
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    assert set(caught.value.fields) == {"file"}
    return str(caught.value.fields["file"])


@pytest.fixture(autouse=True, scope="module")
def app_context():
    """Files are stored encrypted with the app's key (the fixed development key in tests)."""
    with create_app("testing").app_context():
        yield


@pytest.fixture
def upload_dir(tmp_path):
    directory = tmp_path / "uploads"
    directory.mkdir(mode=0o700)
    return directory


# --- content ---------------------------------------------------------------------------------

@pytest.mark.parametrize("data, content_type", [
    (PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (DICOM, "application/dicom"),
])
def test_accepted_types_are_found_from_the_content(data, content_type):
    assert check_content(data) == content_type


def test_a_zip_of_images_and_an_extensionless_dicom_is_accepted():
    data = make_zip({"scan-1.png": PNG, "scan-2.png": PNG, "CT/IM000001": DICOM})
    assert check_content(data) == "application/zip"


def test_a_zip_from_a_dicom_cd_with_folders_and_dicomdir_is_accepted():
    data = make_zip({"DICOM/": b"", "DICOM/ST000001/": b"", "DICOMDIR": DICOM,
                     "DICOM/ST000001/SE000001": DICOM, "report.pdf": PDF, "photo.jpg": JPEG})
    assert check_content(data) == "application/zip"


def test_a_zip_made_on_a_mac_is_accepted_with_its_metadata_files():
    apple_double = b"\x00\x05\x16\x07\x00\x02\x00\x00" + b"Mac OS X        " + b"\x00" * 40
    data = make_zip({"scans/scan.png": PNG, "__MACOSX/scans/._scan.png": apple_double,
                     "scans/.DS_Store": b"\x00\x00\x00\x01Bud1" + b"\x00" * 40})
    assert check_content(data) == "application/zip"


@pytest.mark.parametrize("data", [EXE, HTML, SVG, b"Just some text.\n",
                                  b"\x7fELF\x02\x01\x01" + b"\x00" * 60],
                         ids=["exe", "html", "svg", "text", "elf"])
def test_other_types_are_refused_naming_what_is_accepted(data):
    message = refusal(check_content, data)
    assert message == ("This type of file cannot be accepted. "
                       "Send PDF, JPEG, PNG or DICOM files, or a ZIP of them.")


def test_office_documents_are_refused_although_they_are_zips():
    docx = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    assert "This type of file cannot be accepted" in refusal(check_content, docx)


def test_a_dicom_whose_preamble_is_a_program_is_refused():
    polyglot = EXE + b"\x00" * (128 - len(EXE)) + DICOM[128:]
    assert "This type of file cannot be accepted" in refusal(check_content, polyglot)


def test_a_zip_holding_a_program_is_refused_naming_it():
    data = make_zip({"scan.png": PNG, "viewer/setup.exe": EXE})
    message = refusal(check_content, data)
    assert "“setup.exe”" in message and "PDF, JPEG, PNG or DICOM" in message


def test_a_zip_holding_a_png_named_exe_is_judged_by_content():
    assert check_content(make_zip({"scan.exe": PNG})) == "application/zip"


def test_a_nested_zip_is_refused():
    data = make_zip({"scan.png": PNG, "more.zip": make_zip({"inner.png": PNG})})
    assert "contains another ZIP file, “more.zip”" in refusal(check_content, data)


def test_an_encrypted_zip_is_refused():
    data = bytearray(make_zip({"scan.png": PNG}))
    data[6] |= 0x01  # general purpose flag, bit 0 "encrypted", in the local header...
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x01  # ...and in the central directory, which zipfile reads
    assert "protected by a password" in refusal(check_content, bytes(data))


def test_a_truncated_zip_is_refused_as_damaged():
    data = make_zip({"scan.png": PNG, "report.pdf": PDF})
    assert "damaged" in refusal(check_content, data[: len(data) // 2])


def test_a_zip_with_a_corrupted_member_is_refused_as_damaged():
    data = bytearray(make_zip({"report.pdf": PDF * 20}, compression=zipfile.ZIP_STORED))
    data[data.index(b"%%EOF") + 2] ^= 0xFF  # the stored bytes no longer match the checksum
    assert "damaged" in refusal(check_content, bytes(data))


def test_an_empty_zip_is_refused():
    assert "This ZIP file is empty" in refusal(check_content, make_zip({}))
    assert "This ZIP file is empty" in refusal(check_content, make_zip({"folder/": b""}))


def test_a_zip_bomb_is_refused():
    bomb = make_zip({"scan.png": PNG + b"\x00" * (20 * MB)})
    assert len(bomb) < LIMIT
    assert "compressed in an unusual way" in refusal(store, bomb, "scans.zip", upload_dir="unused",
                                                     max_bytes=LIMIT)


def test_a_zip_that_unpacks_to_more_than_ten_times_the_limit_is_refused():
    data = make_zip({"scan.png": PNG + b"\x00" * 30_000})
    assert len(data) < 2_000
    message = refusal(check_content, data, max_bytes=2_000)
    assert "add up to more than" in message and "MB once unpacked" in message


def test_a_zip_with_too_many_members_is_refused():
    data = make_zip({f"{n}.png": PNG for n in range(MAX_ZIP_MEMBERS + 1)}, compression=zipfile.ZIP_STORED)
    assert "more than 2000 files" in refusal(check_content, data)


@pytest.mark.parametrize("member", ["../evil.png", "scans/../../evil.png", "/etc/evil.png",
                                    "..\\evil.png", "C:\\evil.png"])
def test_zip_members_with_escaping_paths_are_refused(member):
    data = make_zip({"scan.png": PNG, member: PNG})
    assert "folder paths that are not allowed" in refusal(check_content, data)


# --- names -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b.pdf", "C:\\x.pdf", "x\x00.pdf", "\u202egpj.exe",
                                  "scan\u202e.pdf", "x\u2028.pdf", "x\ty.pdf", "\ufeffx.pdf"])
def test_names_with_separators_or_hidden_characters_are_refused(name):
    assert refusal(clean_filename, name) == ("This file name contains characters that cannot be accepted. "
                                             "Rename the file and send it again.")


@pytest.mark.parametrize("name", ["CON.pdf", "con", "Lpt1.scan.png", "COM9 .jpg", ".htaccess", ".", ".."])
def test_device_and_dot_names_are_refused(name):
    assert refusal(clean_filename, name) == ("This file name cannot be accepted. "
                                             "Rename the file and send it again.")


def test_a_name_over_200_characters_is_refused():
    assert "Shorten it to 200 characters" in refusal(clean_filename, "x" * 296 + ".pdf")
    assert clean_filename("x" * 196 + ".pdf") == "x" * 196 + ".pdf"


@pytest.mark.parametrize("name", ["تقرير الأشعة.pdf", "核磁共振报告.pdf", "نامه\u200cی پزشک.pdf",
                                  "Ärztlicher Bericht (2).pdf"])
def test_names_in_any_script_are_kept(name):
    assert clean_filename(name) == name


def test_names_are_normalized_to_nfc_and_trimmed():
    decomposed = unicodedata.normalize("NFD", "تقرير_é.pdf")
    assert clean_filename(f"  {decomposed}\n") == unicodedata.normalize("NFC", "تقرير_é.pdf")


@pytest.mark.parametrize("name", [None, "", "   "])
def test_a_missing_name_becomes_document(name):
    assert clean_filename(name) == "document"


# --- storing ---------------------------------------------------------------------------------

def test_store_writes_a_private_file_under_a_random_name(tmp_path):
    upload_dir = tmp_path / "instance" / "uploads"
    stored = store(PNG, "صورة الأشعة.png", upload_dir=upload_dir, max_bytes=LIMIT)

    assert isinstance(stored, StoredFile)
    assert len(stored.storage_name) == 32 and set(stored.storage_name) <= set("0123456789abcdef")
    assert stored.filename == "صورة الأشعة.png"
    assert (stored.content_type, stored.size) == ("image/png", len(PNG))
    assert os.listdir(upload_dir) == [stored.storage_name]
    path = upload_dir / stored.storage_name
    assert PNG not in path.read_bytes()  # encrypted
    assert read_stored(upload_dir, stored.storage_name) == PNG
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(upload_dir.stat().st_mode) == 0o700
    assert stored.sha256 == hashlib.sha256(PNG).hexdigest()


def test_each_upload_gets_its_own_name(upload_dir):
    first = store(PDF, "a.pdf", upload_dir=upload_dir, max_bytes=LIMIT)
    second = store(PDF, "a.pdf", upload_dir=upload_dir, max_bytes=LIMIT)
    assert first.storage_name != second.storage_name
    assert first.sha256 == second.sha256


def test_content_wins_over_the_name(upload_dir):
    assert store(PDF, "scan.png", upload_dir=upload_dir, max_bytes=LIMIT).content_type == "application/pdf"
    assert store(PNG, "scan.pdf", upload_dir=upload_dir, max_bytes=LIMIT).content_type == "image/png"


def test_a_dicom_and_a_zip_are_stored(upload_dir):
    assert store(DICOM, None, upload_dir=upload_dir, max_bytes=LIMIT).content_type == "application/dicom"
    stored = store(make_zip({"a.png": PNG, "b.png": PNG, "IM0001": DICOM}), "CT.zip",
                   upload_dir=upload_dir, max_bytes=LIMIT)
    assert (stored.content_type, stored.filename) == ("application/zip", "CT.zip")


def test_a_file_over_the_limit_is_refused_saying_the_limit(upload_dir):
    message = refusal(store, PDF + b"\x00" * (2 * MB), "big.pdf", upload_dir=upload_dir, max_bytes=2 * MB)
    assert message == "This file is larger than 2 MB. Send it in parts, or as a ZIP."
    assert store(PDF, "ok.pdf", upload_dir=upload_dir, max_bytes=len(PDF)).size == len(PDF)


def test_an_empty_file_is_refused(upload_dir):
    assert refusal(store, b"", "scan.pdf", upload_dir=upload_dir, max_bytes=LIMIT) == \
        "This file is empty. Check the file and send it again."


@pytest.mark.parametrize("data, name", [
    (EXE, "scan.pdf"), (HTML, "report.pdf"), (SVG, "x.png"), (b"", "a.pdf"), (PDF, "../../etc/passwd"),
    (PDF, "\u202egpj.exe"), (PNG + b"\x00" * LIMIT, "big.png"), (make_zip({"a.exe": EXE}), "a.zip"),
])
def test_nothing_is_written_when_a_file_is_refused(upload_dir, data, name):
    with pytest.raises(ValidationError):
        store(data, name, upload_dir=upload_dir, max_bytes=LIMIT)
    assert os.listdir(upload_dir) == []


def test_a_refused_file_does_not_even_create_the_directory(tmp_path):
    with pytest.raises(ValidationError):
        store(EXE, "x.exe", upload_dir=tmp_path / "uploads", max_bytes=LIMIT)
    assert not (tmp_path / "uploads").exists()


def test_a_failed_write_leaves_no_partial_file(upload_dir, monkeypatch):
    def broken_replace(source, target):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        store(PDF, "a.pdf", upload_dir=upload_dir, max_bytes=LIMIT)
    assert os.listdir(upload_dir) == []


# --- reading back ----------------------------------------------------------------------------

def test_open_stored_finds_a_stored_file(upload_dir):
    stored = store(PDF, "a.pdf", upload_dir=upload_dir, max_bytes=LIMIT)
    assert open_stored(upload_dir, stored.storage_name) == upload_dir / stored.storage_name
    assert read_stored(str(upload_dir), stored.storage_name, sha256=stored.sha256) == PDF


@pytest.mark.parametrize("name", ["../x", "..", "", "/etc/passwd", "A" * 32, "0" * 31, "0" * 33,
                                  "0" * 32 + "\n", "0" * 16 + "/" + "0" * 15, None])
def test_open_stored_refuses_names_that_store_does_not_make(upload_dir, name):
    (upload_dir / "x").write_bytes(b"secret")
    with pytest.raises(NotFound):
        open_stored(upload_dir / "sub", name)
    with pytest.raises(NotFound):
        open_stored(upload_dir, name)


def test_open_stored_refuses_a_well_formed_name_with_no_file(upload_dir):
    with pytest.raises(NotFound):
        open_stored(upload_dir, "0" * 32)
