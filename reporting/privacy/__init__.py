"""Privacy on request: erase a referred customer, export what Tandem holds about a customer or a
partner, and delete raw clicks past the workspace's retention. In reporting, the rightmost app,
because each of them reaches the rows of every app (and the rollups that keep clicks' history)."""
