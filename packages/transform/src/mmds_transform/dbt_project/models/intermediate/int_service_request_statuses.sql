-- The fields the portal overwrites when a request moves on, keyed for the status snapshot.
-- Rows without a modification instant cannot be ordered in history and are left out.
select
    service_request_id,
    status,
    closure_reason,
    closed_date,
    last_modified_at
from {{ ref('stg_portal__service_requests') }}
where last_modified_at is not null
