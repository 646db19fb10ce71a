"""The Tasker server client: the second implementation of the task operations.

``profiles`` (connection profiles, standard library only), ``contract`` (the OpenAPI document),
``client`` (httpx, timeouts, retries, errors), ``tasks`` (the task operations returning the
views of :mod:`tasker_ctl.tasks.views`), ``templates`` (the server's templates and the promote
check), ``backend`` (the seam: the local operations or a server's). httpx is imported only when
a profile is used.
"""
