from crm_core.notes.service import SUBJECTS, NoteSubject, add_note, count_notes, list_notes

__all__ = ["SUBJECTS", "NoteSubject", "add_note", "count_notes", "list_notes"]
