"""Who to ask: the dossier register as a sampling frame, sample plans drawn from it, the lists
surveyors carry, coverage of the plan, invitations; the register also gives the weights of the
weighted index (aggregate/weighting.py).

Modules: `register_file` reads a register export (CSV/XLSX) into rows and row problems;
`draw` sizes and draws a sample reproducibly from a seed; `plans` checks a request and stores
the plan; `status` tells which members were reached and which reserves are released;
`coverage` sums that by unit and surveyor; `lists` makes each surveyor's respondents.csv;
`invitations` makes letters and the SMS file; `folding` compares Vietnamese text loosely.
"""
