"""Reason and warning codes: one vocabulary for the database, the API, logs and metrics.

Codes are added, never renamed: agencies' scripts and the audit trail depend on them.
"""

from enum import StrEnum

from pydantic import BaseModel


class ReasonCode(StrEnum):
    """Why a document was rejected or withdrawn, or why it is waiting to be retried."""

    infected = "infected"
    file_type_not_allowed = "file_type_not_allowed"
    archive_not_allowed = "archive_not_allowed"
    macros_not_allowed = "macros_not_allowed"
    type_mismatch = "type_mismatch"
    encrypted = "encrypted"
    corrupt = "corrupt"
    too_large = "too_large"
    empty_file = "empty_file"
    scan_limits_exceeded = "scan_limits_exceeded"
    unknown_item = "unknown_item"
    not_for_agency = "not_for_agency"
    duplicate = "duplicate"
    more_than_requested = "more_than_requested"
    scanner_unavailable = "scanner_unavailable"
    store_unavailable = "store_unavailable"
    processing_error = "processing_error"
    child_not_selected = "child_not_selected"
    child_id_required = "child_id_required"
    outside_lookback = "outside_lookback"
    document_date_required = "document_date_required"
    names_in_child_list = "names_in_child_list"
    missing_child_id_column = "missing_child_id_column"
    missing_required_columns = "missing_required_columns"
    missing_child_ids = "missing_child_ids"
    invalid_list_values = "invalid_list_values"
    too_many_children = "too_many_children"
    text_encoding_not_supported = "text_encoding_not_supported"
    list_too_large = "list_too_large"
    container_limits_exceeded = "container_limits_exceeded"
    embedded_archive_not_allowed = "embedded_archive_not_allowed"
    infected_on_rescan = "infected_on_rescan"


class WarningCode(StrEnum):
    """Something the portal changed or noticed in an accepted document."""

    active_content_removed = "active_content_removed"
    embedded_files_removed = "embedded_files_removed"
    metadata_stripped = "metadata_stripped"
    duplicate = "duplicate"
    more_than_requested = "more_than_requested"
    formula_cells_neutralised = "formula_cells_neutralised"
    edit_restrictions_removed = "edit_restrictions_removed"
    mix_not_met = "mix_not_met"


_REASON_SENTENCES: dict[ReasonCode, str] = {
    ReasonCode.infected: (
        "Our virus scanner found something harmful in this file; no one can open it. "
        "Please ask your IT team to check the original, then upload a clean copy."
    ),
    ReasonCode.file_type_not_allowed: (
        "This kind of file cannot be accepted. Please save it as PDF, Word (.docx), "
        "Excel (.xlsx), OpenDocument (.odt, .ods), CSV, plain text, PNG or JPEG and upload it "
        "again."
    ),
    ReasonCode.archive_not_allowed: (
        "Zip files and other archives cannot be accepted. Please upload the files inside it "
        "one by one."
    ),
    ReasonCode.macros_not_allowed: (
        "This file contains macros, which cannot be accepted. Please save it without macros "
        "(for example as .docx or .xlsx) and upload it again."
    ),
    ReasonCode.type_mismatch: (
        "The file's name says one type but its contents are another, or are two types at "
        "once (for example a PDF with a zip file joined to it). Please check you chose the "
        "right file, save it again from the program that made it, with the correct "
        "extension, and upload it again."
    ),
    ReasonCode.encrypted: (
        "This file is password-protected, so inspectors cannot open it. Please remove the "
        "password and upload it again."
    ),
    ReasonCode.corrupt: (
        "This file is damaged or incomplete and cannot be opened. Please check it opens on "
        "your computer, then upload it again."
    ),
    ReasonCode.too_large: (
        "This file is too large. Please split it into smaller files and upload them one by one."
    ),
    ReasonCode.empty_file: "This file is empty. Please choose the right file and upload it again.",
    ReasonCode.scan_limits_exceeded: (
        "This file is too large or too deeply nested for our virus scanner to check fully. "
        "Please split it into smaller files and upload them one by one."
    ),
    ReasonCode.unknown_item: (
        "The item number does not match any item on this inspection's list. Please check the "
        "item number in Annex A and upload again."
    ),
    ReasonCode.not_for_agency: (
        "This item is not requested from your agency. Please check the item number in your "
        "agency's checklist."
    ),
    ReasonCode.duplicate: (
        "This exact file has already been accepted for this item, so it was not stored twice."
    ),
    ReasonCode.scanner_unavailable: (
        "We could not finish checking this file because the virus scanner was unavailable. "
        "It will be checked again automatically; you do not need to upload it again."
    ),
    ReasonCode.store_unavailable: (
        "We could not finish storing this file because the storage service was unavailable. "
        "It will be retried automatically; you do not need to upload it again."
    ),
    ReasonCode.processing_error: (
        "Something went wrong on our side while checking this file. Our support team has been "
        "told; you do not need to upload it again."
    ),
    ReasonCode.child_not_selected: (
        "This child is not one of the children the lead inspector selected for audit. Please "
        "check the child's unique ID against the list of selected children."
    ),
    ReasonCode.child_id_required: (
        "Case records and audits must say which child they are about. Please add the child's "
        "unique ID (not their name) and upload again."
    ),
    ReasonCode.outside_lookback: (
        "This document is dated before the period the inspectors asked about. Please check the "
        "document date, or upload a more recent document."
    ),
    ReasonCode.document_date_required: (
        "This item covers a set period, so we need the date of the document. Please add the "
        "document date and upload again."
    ),
    ReasonCode.names_in_child_list: (
        "This list seems to include the names of children or their family. Lists for the "
        "inspection must use each child's unique ID instead of names. Please remove the names "
        "(or replace them with unique IDs) and upload the list again."
    ),
    ReasonCode.missing_child_id_column: (
        "This list has no column for each child's unique ID. Please add a column headed "
        "'Child ID' holding each child's unique ID (not their name), keep the headings in the "
        "first row and upload the list again."
    ),
    ReasonCode.missing_required_columns: (
        "This list is missing one or more of the columns the inspection asks for. Please add "
        "the columns named in the details, with their headings in the first row, and upload "
        "the list again."
    ),
    ReasonCode.missing_child_ids: (
        "Some rows of this list have no child ID. Please give every child on the list their "
        "unique ID and upload the list again."
    ),
    ReasonCode.invalid_list_values: (
        "Some answers in this list are not in the form asked for (for example, Y or N). "
        "Please correct the rows named in the details and upload the list again."
    ),
    ReasonCode.too_many_children: (
        "This list has more children than the inspection asks for. Please keep only the "
        "number of children asked for and upload the list again."
    ),
    ReasonCode.text_encoding_not_supported: (
        "We could not read the letters in this CSV file. Please save it from Excel as "
        "'CSV UTF-8 (Comma delimited)' and upload it again."
    ),
    ReasonCode.list_too_large: (
        "This list is bigger than any list for the inspection should be (at most 100,000 "
        "rows, 200 columns and 2 million cells). Please check you chose the right file and "
        "upload it again."
    ),
    ReasonCode.container_limits_exceeded: (
        "This file unpacks to far more data, or far more parts, than any real document "
        "does, so it was not opened. It may be damaged or made to overload computers. "
        "Please open it on your computer, save a fresh copy (for example with Save As), "
        "or split it into smaller files, and upload it again."
    ),
    ReasonCode.embedded_archive_not_allowed: (
        "This document has a zip file or another archive stored inside it, which cannot be "
        "accepted. Please remove the attached archive from the document, save it and upload "
        "it again; if inspectors need the archive's files, upload them one by one."
    ),
    ReasonCode.infected_on_rescan: (
        "This file was accepted, but when we checked it again with newer virus definitions, "
        "our virus scanner found something harmful in it. It has been withdrawn: the "
        "inspectors can no longer open it and it no longer counts as sent. Please ask your "
        "IT team to check the original, then upload a clean copy."
    ),
}

_WARNING_SENTENCES: dict[WarningCode, str] = {
    WarningCode.active_content_removed: (
        "Scripts and automatic actions were removed from this PDF. Its text and pages are "
        "unchanged."
    ),
    WarningCode.embedded_files_removed: (
        "Files attached inside this PDF were removed. If inspectors need them, upload them "
        "separately."
    ),
    WarningCode.duplicate: (
        "A file with exactly the same content was already sent for this item. Both are "
        "kept; you do not need to upload it again."
    ),
    WarningCode.more_than_requested: (
        "The inspectors asked for fewer documents for this item than you have now sent. They "
        "will look at the most recent ones."
    ),
    WarningCode.metadata_stripped: (
        "Hidden details such as the author's name were removed from this file."
    ),
    WarningCode.edit_restrictions_removed: (
        "This PDF had a password that only restricted editing or printing (it opened without "
        "one). We stored a copy without those restrictions so inspectors can work with it; "
        "its pages are unchanged."
    ),
    WarningCode.formula_cells_neutralised: (
        "Some cells began with =, +, - or @, so a spreadsheet could have run them as "
        "formulas. They were stored as plain text with an apostrophe (') in front; nothing "
        "else in them was changed."
    ),
    WarningCode.mix_not_met: (
        "The list was accepted, but it does not have the mix of children the guidance asks "
        "for where possible (for example at least 2 children from each age group); the "
        "details say which groups are short. If you can, upload a list that has the mix, "
        "or tell the lead inspector why it is not possible."
    ),
}


def reason_sentence(code: ReasonCode) -> str:
    """Return the sentence shown to a non-technical uploader for a reason code."""
    return _REASON_SENTENCES[code]


def warning_sentence(code: WarningCode) -> str:
    """Return the sentence shown to a non-technical uploader for a warning code."""
    return _WARNING_SENTENCES[code]


# A reason or warning code with its sentence for the uploader. (No docstring: it would
# become the API schema's description.)
class CodeAndMessage(BaseModel):
    code: str
    message: str
