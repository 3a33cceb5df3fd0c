"""The exact-gradient lab: exact J and grad J of finite MDPs, and estimators held against them."""
