"""Receiving a submission, whatever the door (ODK Collect, the Central API, a public link, a kiosk,
paper entry): what is stored and why, with nothing about HTTP.

Modules: `multipart` (the POST's XML part and attachments), `parse` (the XML read safely, within
limits), `flatten` (an instance tree into rows: the top level, one per repeat entry, identifiers
apart), `accept` (`receive()`: every rule about what to store, in one transaction).
"""
