"""Sharing agents on the Hugging Face Hub.

``download`` turns an ``hf://USER/NAME`` path into a folder of the Hub's local cache,
``card`` writes the model card and results, ``export`` a Hub-ready folder from a trained run, and
``push`` uploads one with huggingface_hub (``pip install -e ".[hub]"``).
"""
