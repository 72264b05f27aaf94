# On PostgreSQL, what depends on the database: keyset paging, the filters, the API's queries,
# a sequence beyond INTEGER, and the incremental chain status under REPEATABLE READ snapshots.
from tests.kernel_cases.web import (
    client,
    test_a_bad_parameter_is_one_clear_400,
    test_a_rewrite_under_the_verified_point_is_caught,
    test_a_time_range_filters_on_when_records_were_written,
    test_bad_addresses_and_methods,
    test_filters_combine_and_stay_in_the_links,
    test_keyset_pages_walk_the_whole_audit_once,
    test_the_api_answers_as_the_cli_does,
    test_the_chain_status_is_kept_incrementally,
    test_the_live_rows_are_those_after_the_top_one,
)

__all__ = [
    "client",
    "test_a_bad_parameter_is_one_clear_400",
    "test_a_rewrite_under_the_verified_point_is_caught",
    "test_a_time_range_filters_on_when_records_were_written",
    "test_bad_addresses_and_methods",
    "test_filters_combine_and_stay_in_the_links",
    "test_keyset_pages_walk_the_whole_audit_once",
    "test_the_api_answers_as_the_cli_does",
    "test_the_chain_status_is_kept_incrementally",
    "test_the_live_rows_are_those_after_the_top_one",
]
