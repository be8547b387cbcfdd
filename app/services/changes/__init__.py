"""The change feed (issue 17): ``record`` writes the change rows, ``feed`` reads them."""
