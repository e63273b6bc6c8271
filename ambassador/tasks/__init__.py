"""Tasks for ambassadors: the editor, taking and submitting, review and payment."""
