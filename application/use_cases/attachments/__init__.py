"""Attachments: files kept with an item, seen and changed by the item's owner or an
administrator, their bytes in blob storage."""
