"""The way out of one machine: the same App on AWS.

``synth`` writes a SAM template and a build folder for a system, ``iam`` derives each
function's least-privilege policy, ``entrypoint`` is the one Lambda handler every function
runs, ``cloud`` binds an App's resources to the boto3 adapters (``stratus.aws.adapters``)
from the environment variables the template sets, and ``deploy`` puts it all in a stack.
"""
