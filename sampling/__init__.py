"""Who to ask: the dossier register as a sampling frame, sample plans drawn from it, the lists
surveyors carry, coverage of the plan, invitations, and the weights of the weighted index.

Modules: `register_file` reads a register export (CSV/XLSX) into rows and row problems;
`draw` sizes and draws a sample reproducibly from a seed; `status` tells which members were
reached and which reserves are released; `lists` makes each surveyor's respondents.csv;
`invitations` makes letters and the SMS file.
"""
