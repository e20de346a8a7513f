"""Every answer the OpenRosa receiver can give: the refusals are catalogue.RECEIVER (Collect shows
`problem.message`, Vietnamese first, then English); the two successes are here.
"""
from __future__ import annotations

from catalogue import RECEIVER as PROBLEMS  # noqa: F401  (the receiver's name for its table)

SUCCESS = "Đã nhận đủ phiếu. / Full submission upload was successful!"
PARTIAL = "Đã nhận một phần phiếu; các tệp còn lại sẽ được gửi tiếp. / Partial submission upload was successful!"
