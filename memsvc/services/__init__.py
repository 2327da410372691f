"""Services: the use cases (ingest, recall, CRUD, decay, jobs). Each takes a Session explicitly
and the long-lived engines through the `Runtime`; none knows about HTTP."""
