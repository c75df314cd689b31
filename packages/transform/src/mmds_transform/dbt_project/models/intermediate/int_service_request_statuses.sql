-- The fields the portal overwrites when a request moves on, keyed for the status snapshot: the
-- status (normalised; as sent when unknown), closure reason and close date as the portal sent
-- them. Rows whose modification instant is missing, in the future or before the dataset's
-- first year cannot be ordered in history and are left out.
select
    service_request_id,
    status,
    closure_reason,
    closed_date,
    last_modified_at
from {{ ref('int_service_requests_flagged') }}
where last_modified_at is not null and not has_unusable_last_modified
