"""Adapters: the AWS services behind the domain's ports, through boto3 clients passed in."""
