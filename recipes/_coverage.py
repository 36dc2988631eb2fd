"""What the notes say that the report does not reproduce, and where a note is factually wrong.

The report's last section (:func:`recipes.report.report_markdown`) prints these two lists
and every check named ``NOT REPRODUCED ...``, so that a reader can tell a claim the
report leaves out on purpose from one it forgot, and a claim it measured and found not
to hold. One entry per statement; ``note`` names the note file (``/work/shared/notes``,
see its README) and section, ``says`` is the statement in English, ``why`` the reason.
"""

from __future__ import annotations

#: Statements of the notes that no recipe reproduces, and why.
NOT_COVERED = [
    dict(note="001, 'Deep Learning이란?'",
         says="the three eras of pattern recognition: hand-crafted features, then unsupervised mid-level features, "
              "then hierarchical learned representations",
         why="a historical account, not a computation; nothing to measure on this machine"),
    dict(note="001, 'Loss'",
         says="Adversarial and Variational losses in the list of losses",
         why="out of scope: they need a generative model (a GAN's generator and discriminator, a VAE's encoder "
             "and decoder) trained far beyond the report's 12 minutes on 2 cores; the list's Cross Entropy, MLE, "
             "L1 and L2 are reproduced (losses, regularization)"),
    dict(note="000, 'CNN'",
         says="CNNs keep the spatial information of 3-D image data (colour images such as the linked figure's)",
         why="the cnn recipe shows it on 8 x 8 grey digits (one channel); colour images at ImageNet scale need "
             "the ImageNet data and days of GPU time"),
    dict(note="000, 'Word2Vec'",
         says="Word2Vec cut the computation of earlier embedding methods, training several times faster",
         why="the earlier method the claim is about (the neural network language model of Bengio et al. 2003, "
             "with a hidden layer and a softmax over the whole vocabulary) is not in the zoo, and timing it "
             "against skip-gram at a size where the difference shows (a vocabulary of 10^5 words) does not fit "
             "the report's time; the word2vec recipe reports its own words per second only"),
    dict(note="000, 'Hidden Layer'",
         says="in 2006 Hinton proposed ReLU in place of sigmoid and so solved the vanishing gradient",
         why="historical (and wrong as written: see the next list); the vanishing_gradients recipe measures what "
             "ReLU does to the gradient, not who proposed it when"),
    dict(note="000, 'Word2Vec'",
         says="Woman - Man ~= Aunt - Uncle (the notes' own analogy)",
         why="no corpus available here has the four words often enough: Reuters has no 'woman', 'uncle' or 'aunt', "
             "gensim's Lee corpus no 'uncle' or 'aunt', gensim's text8 sample (head500.noblanks.cor, 331,339 words) "
             "'aunt' 10 times and 'uncle' never; the word2vec recipe prints the counts for the corpus it trains on and "
             "checks the same kind of offset on country -> nationality pairs instead"),
    dict(note="000, 'Hidden Layer'",
         says="hidden layers are usually made smaller and smaller from a large input towards a small output",
         why="a design convention ('usually implemented'), not a claim with a measurable effect; the notes' own "
             "Reuters model follows it (10000 -> 256 -> 128 -> 46, dense_layers counts its weights), and the "
             "overfitting recipe's deeper-against-wider comparison is the nearest measured question"),
    dict(note="001, 'Hyper Parameter' / 000, '하이퍼 파라미터'",
         says="the train / test split itself counts as a hyperparameter in the wide sense",
         why="a definition, not a claim with a number; cross_validation measures how the split changes the "
             "estimate"),
]

#: Statements of the notes that are factually wrong, with the correction and its source.
WRONG = [
    dict(note="000, 'Hidden Layer와 역전파'",
         says="2006년 Hiton 교수가 sigmoid함수 대신 ReLU 함수를 제안하여 이 문제를 해결했다 (in 2006 Professor "
              "\"Hiton\" proposed ReLU instead of sigmoid and solved the vanishing gradient)",
         fact="The name is Hinton. His 2006 work was greedy layer-wise pretraining of deep belief networks, not "
              "ReLU; rectified linear units in deep networks came in 2010-2011. The notes' own next paragraph "
              "(pretraining each hidden layer) is the 2006 idea.",
         source="Hinton, Osindero & Teh, 'A fast learning algorithm for deep belief nets', Neural Computation "
                "18(7), 2006; Hinton & Salakhutdinov, Science 313, 2006; Nair & Hinton, 'Rectified linear units "
                "improve restricted Boltzmann machines', ICML 2010; Glorot, Bordes & Bengio, 'Deep sparse "
                "rectifier neural networks', AISTATS 2011"),
]

#: Prefix of a check that records a claim measured and found not to hold (the report lists them).
NOT_REPRODUCED = "NOT REPRODUCED"
