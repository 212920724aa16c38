"""Evidence packages: a notice (or a whole process) with everything that proves it from one block hash.

``package`` builds the zip, ``export`` gathers its contents from the evidence store and the
chain, ``proofs`` reads the proof material from JSON-RPC, ``capture`` keeps it while blocks are
fresh, ``certificate`` draws the PDF, ``check`` is the project's own check of a package, and
``verify_evidence.py`` is the standalone, standard-library-only verifier shipped inside each one.
"""
