# The SQL differential suite, federated: the tables spread over three
# nodes of two orgs that link only through gateways, every query asked
# of a node hosting none of them (see WEFT_DIFF_MESH in t_sql_diff.sh).
WEFT_DIFF_MESH=1 exec sh "$(dirname "$0")/t_sql_diff.sh"
