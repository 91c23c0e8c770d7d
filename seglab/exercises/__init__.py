"""The questions of the exercise notebooks, one module per notebook.

============================================  =========================================
module                                        notebook
============================================  =========================================
``seglab.exercises.ex01_masks``               ``exercises/01_masks_and_metrics.ipynb``
``seglab.exercises.ex02_images``              ``exercises/02_robust_images.ipynb``
``seglab.exercises.ex03_sam_prompts``         ``exercises/03_sam_prompts.ipynb``
``seglab.exercises.ex04_segment_everything``  ``exercises/04_segment_everything.ipynb``
``seglab.exercises.ex05_unet``                ``exercises/05_unet.ipynb``
``seglab.exercises.ex06_training_loop``       ``exercises/06_training_loop.ipynb``
``seglab.exercises.ex07_labels_from_boxes``   ``exercises/07_labels_from_boxes.ipynb``
``seglab.exercises.ex08_scaling_out``         ``exercises/08_scaling_out.ipynb``
============================================  =========================================

Each module defines ``q1``, ``q2``, ... (:class:`seglab.checks.Question` objects) and the
reference solutions they print. Importing this package imports nothing heavy.
"""
