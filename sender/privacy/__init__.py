"""What the software does to keep the promises of the data notice: retention periods applied by
itself (`retention`), and the rights of one person served by one command (`person`)."""
